// kubelink in a subscription: the Functions app with identity-based storage, Application Insights on a Log
// Analytics workspace, a user-assigned managed identity, and the least-privilege role "kubelink operator"
// (kubelink-role.json) assigned at each allowed scope. `azd up` or `az deployment sub create` (README "Deploy").
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('Name of the azd environment: resource names derive from it.')
param environmentName string

@minLength(1)
@description('Region of every resource.')
param location string

@description('Resource group to create for kubelink (default rg-<environmentName>).')
param resourceGroupName string = ''

@allowed(['FlexConsumption', 'ElasticPremium'])
@description('Hosting plan: Flex Consumption (default) or Elastic Premium.')
param hostingPlan string = 'FlexConsumption'

@allowed(['EP1', 'EP2', 'EP3'])
@description('Elastic Premium size, when hostingPlan is ElasticPremium.')
param elasticPremiumSku string = 'EP1'

@minLength(1)
@description('Comma-separated ARM scopes kubelink may touch (/subscriptions/{id} or /subscriptions/{id}/resourceGroups/{rg}): KUBELINK_ALLOWED_SCOPES as it is, and where the role is assigned.')
param allowedScopes string

@description('NCRONTAB (6 fields) of the drift timer: KUBELINK_VERIFY_SCHEDULE.')
param verifySchedule string = '0 */15 * * * *'

@minValue(1)
@maxValue(100)
@description('Links verified at once by a sweep: KUBELINK_VERIFY_CONCURRENCY.')
param verifyConcurrency int = 10

@minValue(1)
@maxValue(3600)
@description('Seconds between gateway and IP polls: KUBELINK_POLL_SECONDS.')
param pollSeconds int = 60

@description('ARM id of the AKS cluster whose credentials kubelink lists (kubernetes.aksCluster); empty: none.')
param aksClusterId string = ''

@description('Kubernetes namespace of the Services kubelink manages, for an Azure RBAC for Kubernetes role on it; empty: none.')
param aksNamespace string = ''

@secure()
@description('Default kubeconfig (YAML or base64) for clusters not reached through aksClusterId: KUBELINK_KUBECONFIG; empty: unset.')
param kubeconfig string = ''

var token = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName, application: 'kubelink' }
var role = loadJsonContent('kubelink-role.json')
var subscriptionRole = loadJsonContent('kubelink-subscription-role.json')
var scopes = split(replace(allowedScopes, ' ', ''), ',')
// The app settings kubelink reads (README "Settings").
var kubelinkSettings = {
  KUBELINK_ALLOWED_SCOPES: join(scopes, ',')
  KUBELINK_VERIFY_SCHEDULE: verifySchedule
  KUBELINK_VERIFY_CONCURRENCY: string(verifyConcurrency)
  KUBELINK_POLL_SECONDS: string(pollSeconds)
}

resource group 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: empty(resourceGroupName) ? 'rg-${environmentName}' : resourceGroupName
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: group
  params: { name: 'id-kubelink-${token}', location: location, tags: tags }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: group
  params: { token: token, location: location, tags: tags, principalId: identity.outputs.principalId }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: group
  params: { name: take('stkubelink${token}', 24), location: location, tags: tags, principalId: identity.outputs.principalId }
}

module app 'modules/functionapp.bicep' = {
  name: 'functionapp'
  scope: group
  params: {
    token: token
    location: location
    tags: tags
    hostingPlan: hostingPlan
    elasticPremiumSku: elasticPremiumSku
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    appInsightsConnectionString: monitoring.outputs.connectionString
    settings: union(kubelinkSettings, empty(kubeconfig) ? {} : { KUBELINK_KUBECONFIG: kubeconfig })
  }
}

resource operatorRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, role.roleName, environmentName)
  properties: {
    roleName: '${role.roleName} (${environmentName})'
    description: role.description
    type: 'CustomRole'
    permissions: role.permissions
    assignableScopes: scopes
  }
}

// A scope is /subscriptions/{id} or /subscriptions/{id}/resourceGroups/{rg}; the padding keeps index 4 defined for
// both, since ARM evaluates a skipped module's scope too.
module groupAssignments 'modules/group-assignment.bicep' = [
  for scope in scopes: if (length(split(scope, '/')) > 3) {
    name: 'kubelink-operator-${uniqueString(scope)}'
    scope: resourceGroup(split(scope, '/')[2], split('${scope}/resourceGroups/none', '/')[4])
    params: { roleDefinitionId: operatorRole.id, principalId: identity.outputs.principalId }
  }
]

module subscriptionAssignments 'modules/subscription-assignment.bicep' = [
  for scope in scopes: if (length(split(scope, '/')) <= 3) {
    name: 'kubelink-operator-${uniqueString(scope)}'
    scope: subscription(split(scope, '/')[2])
    params: { roleDefinitionId: operatorRole.id, principalId: identity.outputs.principalId }
  }
]

// The subscription reader (kubelink-subscription-role.json): the subscription's locations (zones of the gateway's
// public IP) and every app with its VNet connections (who else trusts a point-to-site certificate), reads at the
// subscription that no resource-group assignment grants. Assigned on the deployment's subscription; for an allowed
// scope in another subscription, assign it there too (README "Deploy").
resource subscriptionReader 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, subscriptionRole.roleName, environmentName)
  properties: {
    roleName: '${subscriptionRole.roleName} (${environmentName})'
    description: subscriptionRole.description
    type: 'CustomRole'
    permissions: subscriptionRole.permissions
    assignableScopes: [subscription().id]
  }
}

module subscriptionReaderAssignment 'modules/subscription-assignment.bicep' = {
  name: 'kubelink-subscription-reader'
  scope: subscription()
  params: { roleDefinitionId: subscriptionReader.id, principalId: identity.outputs.principalId }
}

// Padded like the scopes above: ARM evaluates the scope of the skipped module too.
var aksIdParts = split('${aksClusterId}/x/x/x/x/x', '/')

module aksAccess 'modules/aks-access.bicep' = if (!empty(aksClusterId)) {
  name: 'kubelink-aks-access'
  scope: resourceGroup(aksIdParts[2], aksIdParts[4])
  params: { clusterName: last(split(aksClusterId, '/')), namespace: aksNamespace, principalId: identity.outputs.principalId }
}

output AZURE_FUNCTION_APP_NAME string = app.outputs.name
output AZURE_FUNCTION_APP_URL string = app.outputs.url
output AZURE_RESOURCE_GROUP string = group.name
output KUBELINK_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output KUBELINK_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output KUBELINK_ROLE_DEFINITION_ID string = operatorRole.id
