// aks-pod-sandbox on Azure Functions Flex Consumption (Node 22), managed identity end to end.
// `azd up` deploys it (azure.yaml); see docs/deploy.md for the Entra app registration and the permission table.
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('azd environment name: names the resource group and the resources.')
param environmentName string

@description('Region of the resource group and every resource.')
param location string

@description('Entra tenant of the API app registration.')
param authTenantId string = tenant().tenantId

@description('Audience(s) of access tokens for the API: its application id URI and/or client id, comma-separated.')
param authAudience string

@secure()
@description('WEBHOOK_SECRET_KEY: 32 random bytes, base64 (openssl rand -base64 32); seals webhook signing secrets at rest.')
param webhookSecretKey string

@description('AKS api flavour: preview (KataMshvVmIsolation) or ga (KataVmIsolation).')
@allowed(['preview', 'ga'])
param sandboxFlavor string = 'preview'

@description('Path of the team policy file inside the package (policy/policy.schema.json describes it).')
param policyFile string = 'policy/team.policy.json'

var suffix = uniqueString(subscription().id, environmentName, location)
var tags = { 'azd-env-name': environmentName }

resource rg 'Microsoft.Resources/resourceGroups@2024-11-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module app 'app.bicep' = {
  name: 'app'
  scope: rg
  params: {
    location: location
    tags: tags
    suffix: suffix
    authTenantId: authTenantId
    authAudience: authAudience
    sandboxFlavor: sandboxFlavor
    policyFile: policyFile
    armEndpoint: environment().resourceManager
    webhookSecretKey: webhookSecretKey
  }
}

// Least privilege at subscription scope: feature and provider registration, AKS create/update/delete,
// listClusterUserCredential, resource groups for new clusters, VM sizes. Nothing else (no Contributor).
resource sandboxOperatorRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, 'aks-pod-sandbox-operator')
  properties: {
    roleName: 'AKS Pod Sandbox control plane (${subscription().subscriptionId})'
    description: 'What aks-pod-sandbox needs: register KataVMIsolationPreview and Microsoft.ContainerService, manage AKS clusters and agent pools, read their user credentials and the Compute SKUs.'
    type: 'CustomRole'
    assignableScopes: [subscription().id]
    permissions: [
      {
        actions: [
          'Microsoft.Features/features/read'
          'Microsoft.Features/providers/features/read'
          'Microsoft.Features/providers/features/register/action'
          'Microsoft.ContainerService/register/action'
          'Microsoft.Resources/subscriptions/read'
          'Microsoft.Resources/subscriptions/resourceGroups/read'
          'Microsoft.Resources/subscriptions/resourceGroups/write'
          'Microsoft.ContainerService/managedClusters/read'
          'Microsoft.ContainerService/managedClusters/write'
          'Microsoft.ContainerService/managedClusters/delete'
          'Microsoft.ContainerService/managedClusters/listClusterUserCredential/action'
          'Microsoft.ContainerService/managedClusters/agentPools/read'
          'Microsoft.ContainerService/managedClusters/agentPools/write'
          'Microsoft.ContainerService/managedClusters/agentPools/delete'
          'Microsoft.ContainerService/managedClusters/agentPools/abort/action'
          'Microsoft.ContainerService/locations/operations/read'
          'Microsoft.ContainerService/locations/operationresults/read'
          'Microsoft.Compute/skus/read'
        ]
        notActions: []
      }
    ]
  }
}

resource sandboxOperatorAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, environmentName, sandboxOperatorRole.id)
  properties: {
    roleDefinitionId: sandboxOperatorRole.id
    principalId: app.outputs.identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = app.outputs.functionAppName
output API_URL string = '${app.outputs.functionAppUrl}/api/v1'
output AZURE_CLIENT_ID string = app.outputs.identityClientId
