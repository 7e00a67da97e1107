// ARM's events for one allowed scope, delivered to kubelink's Event Grid function (README "Within seconds: ARM's
// events"): the scope's system topic (a resource group's, or a subscription's) and, once the function is deployed,
// its event subscription to the function, filtered to writes, deletes and actions under the scope.
@description('The allowed scope: /subscriptions/{id} or /subscriptions/{id}/resourceGroups/{rg}.')
param scopeId string

@description('The Event Grid function: {function app id}/functions/resource_changed.')
param functionId string

@description('Create the event subscription: Event Grid refuses one to a function that is not deployed yet.')
param subscribe bool

param tags object

var isGroup = length(split(scopeId, '/')) > 3

// One system topic per source and topic type may exist; ARM publishes to it from the moment it exists.
resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: 'evgt-kubelink-${uniqueString(scopeId)}'
  location: 'global'
  tags: tags
  properties: {
    source: scopeId
    topicType: isGroup ? 'Microsoft.Resources.ResourceGroups' : 'Microsoft.Resources.Subscriptions'
  }
}

resource toFunction 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = if (subscribe) {
  parent: topic
  name: 'kubelink'
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: functionId
        maxEventsPerBatch: 10
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Resources.ResourceWriteSuccess'
        'Microsoft.Resources.ResourceDeleteSuccess'
        'Microsoft.Resources.ResourceActionSuccess'
      ]
      subjectBeginsWith: scopeId
      isSubjectCaseSensitive: false
      // the reads by action every verification makes (config/appsettings/list…) change nothing: not delivered
      advancedFilters: [
        {
          operatorType: 'StringNotEndsWith'
          key: 'data.operationName'
          values: ['/list/action', '/listclusterusercredential/action']
        }
      ]
    }
    // Event Grid's defaults, written down: 30 attempts over 24 hours
    retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 }
  }
}

output topicId string = topic.id
