"""Microsoft.ContainerService: the AKS cluster, and credentials that reach the local apiserver."""

from __future__ import annotations

import base64

from . import arm_errors, ids
from .arm_errors import ArmError
from .cloud import Cloud
from .routing import NAME, Request, Response, Router, json_response, provider
from .state import Json, public

CLUSTER = provider("Microsoft.ContainerService") + rf"/managedClusters/(?P<cluster>{NAME})"

router = Router()


def _cluster(cloud: Cloud, req: Request) -> Json:
    rg, name = req.params["rg"], req.params["cluster"]
    cloud.require_group(rg)
    cluster = cloud.world.get(
        ids.provider_id(cloud.subscription_id, rg, "Microsoft.ContainerService", "managedClusters", name)
    )
    if cluster is None:
        raise arm_errors.resource_not_found(ids.CLUSTER_TYPE, name, rg)
    return cluster


@router.route("GET", CLUSTER)
def get_cluster(cloud: Cloud, req: Request) -> Response:
    return json_response(200, public(_cluster(cloud, req)))


@router.route("POST", CLUSTER + "/listClusterUserCredential")
@router.route("POST", CLUSTER + "/listClusterAdminCredential")
def list_credentials(cloud: Cloud, req: Request) -> Response:
    """The kubeconfig the sandbox was given (``--kubeconfig``), base64 as AKS returns it."""
    _cluster(cloud, req)
    if cloud.kubeconfig is None:
        raise ArmError(
            409,
            "ClusterNotReachable",
            "The sandbox was started without --kubeconfig, so the cluster has no credentials.",
        )
    user = "clusterAdmin" if req.path.lower().endswith("admincredential") else "clusterUser"
    return json_response(200, {"kubeconfigs": [{"name": user, "value": base64.b64encode(cloud.kubeconfig).decode()}]})
