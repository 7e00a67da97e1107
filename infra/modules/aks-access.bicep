// kubelink on the AKS side: "Azure Kubernetes Service Cluster User Role" on the cluster (listClusterUserCredential)
// and "Azure Kubernetes Service RBAC Writer" on the Services' namespace (clusters with Azure RBAC for Kubernetes).
param clusterName string
param namespace string
param principalId string

var clusterUserRole = '4abbcc35-e782-43d8-92c5-2d3f1bd2253f'
var rbacWriterRole = 'a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb'

resource cluster 'Microsoft.ContainerService/managedClusters@2024-09-01' existing = {
  name: clusterName
}

resource clusterUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(cluster.id, principalId, clusterUserRole)
  scope: cluster
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', clusterUserRole)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// A namespace as an ARM scope: {cluster id}/namespaces/{name}, as Azure RBAC for Kubernetes assigns roles to it.
resource servicesNamespace 'Microsoft.ContainerService/managedClusters/namespaces@2025-03-01' existing = if (!empty(namespace)) {
  parent: cluster
  name: empty(namespace) ? 'default' : namespace
}

resource namespaceWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(namespace)) {
  name: guid(cluster.id, namespace, principalId, rbacWriterRole)
  scope: servicesNamespace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', rbacWriterRole)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
