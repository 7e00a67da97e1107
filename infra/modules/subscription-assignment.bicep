// A role of kubelink's (the operator role, or the subscription reader) for its identity on a whole subscription.
targetScope = 'subscription'

param roleDefinitionId string
param principalId string

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, roleDefinitionId)
  properties: { roleDefinitionId: roleDefinitionId, principalId: principalId, principalType: 'ServicePrincipal' }
}
