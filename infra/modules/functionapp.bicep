// The Functions app (Python 3.11, Linux) on Flex Consumption or Elastic Premium, running as kubelink's user-assigned
// identity: HTTPS only, TLS 1.2 or newer, FTPS off, storage reached with the identity (no keys).
param token string
param location string
param tags object
@allowed(['FlexConsumption', 'ElasticPremium'])
param hostingPlan string
param elasticPremiumSku string
param identityId string
param identityClientId string
param storageAccountName string
param deploymentContainerUrl string
param appInsightsConnectionString string
@secure()
@description('kubelink\'s own app settings (KUBELINK_*).')
param settings object

var flex = hostingPlan == 'FlexConsumption'

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-kubelink-${token}'
  location: location
  tags: tags
  kind: flex ? 'functionapp' : 'elastic'
  sku: flex ? { name: 'FC1', tier: 'FlexConsumption' } : { name: elasticPremiumSku, tier: 'ElasticPremium' }
  properties: {
    reserved: true
    // checkov:skip=CKV_AZURE_225: kubelink is a reconciler whose state lives in storage: an outage of its zone delays provisioning and drift checks but breaks no link, which does not justify three always-ready instances (zone redundancy's minimum).
    zoneRedundant: false
    maximumElasticWorkerCount: flex ? null : 20
  }
}

// The platform's settings: the identity-based AzureWebJobsStorage (the Durable task hub and kubelink's tables),
// telemetry with Entra ID, and the identity DefaultAzureCredential uses.
var platformSettings = {
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}
// Flex Consumption takes the runtime from functionAppConfig and refuses these two; Elastic Premium needs them, and
// runs the package from the same container, read with the identity (an Azure Files content share would need a key).
var elasticPremiumSettings = {
  FUNCTIONS_EXTENSION_VERSION: '~4'
  FUNCTIONS_WORKER_RUNTIME: 'python'
  WEBSITE_RUN_FROM_PACKAGE: '${deploymentContainerUrl}/kubelink.zip'
  WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID: identityId
}
var premiumSettings = flex ? {} : elasticPremiumSettings
var appSettings = union(platformSettings, premiumSettings, settings)

// Flex Consumption: the package from the deployment container (read with the identity), Python 3.11.
var flexConfig = {
  deployment: {
    storage: {
      type: 'blobContainer'
      value: deploymentContainerUrl
      authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId }
    }
  }
  scaleAndConcurrency: { maximumInstanceCount: 40, instanceMemoryMB: 2048 }
  runtime: { name: 'python', version: '3.11' }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: 'func-kubelink-${token}'
  location: location
  tags: union(tags, { 'azd-service-name': 'kubelink' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    // checkov:skip=CKV_AZURE_17: client certificates would refuse callers without one; kubelink's API is called with function keys (auth level "function") and stays behind them.
    keyVaultReferenceIdentity: identityId
    // checkov:skip=CKV_AZURE_222: kubelink's HTTP API is called from outside any VNet (CI, operators); every route needs a function key.
    publicNetworkAccess: 'Enabled'
    // checkov:skip=CKV_AZURE_212: Flex Consumption and Elastic Premium scale out on demand and the Durable task hub resumes work on any instance; no standing failover instance is needed.
    // checkov:skip=CKV_AZURE_213: App Service health check does not apply to Flex Consumption and kubelink has no health route; the platform restarts failed hosts, Application Insights alerts on failures.
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      linuxFxVersion: flex ? null : 'Python|3.11'
      appSettings: [for setting in items(appSettings): { name: setting.key, value: setting.value }]
    }
    functionAppConfig: flex ? flexConfig : null
  }
}

resource basicAuthFtp 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: { allow: false }
}

resource basicAuthScm 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: { allow: false }
}

output name string = app.name
output id string = app.id
output url string = 'https://${app.properties.defaultHostName}'
