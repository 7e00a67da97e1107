"""Fixture: HTTP routes with parameters, constraints, methods, sync/async handlers and func.Context."""

import json

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.route(route="items/{id:int}/{name?}", methods=["GET"])
def get_item(req: func.HttpRequest) -> func.HttpResponse:
    body = {"id": req.route_params["id"], "name": req.route_params.get("name"), "q": req.params.get("q")}
    return func.HttpResponse(json.dumps(body), mimetype="application/json", headers={"X-Item": "yes"})


@app.route(route="items", methods=["POST", "PUT"], auth_level=func.AuthLevel.ANONYMOUS)
async def put_item(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    echo = {
        "method": req.method,
        "json": req.get_json(),
        "header": req.headers.get("x-custom"),
        "url": req.url,
        "function": context.function_name,
    }
    return func.HttpResponse(json.dumps(echo), status_code=201, mimetype="application/json")


@app.route(route="files/{*path}")
def files(req: func.HttpRequest) -> str:
    return "path=" + req.route_params["path"]


@app.route(route="broken")
def broken(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("handler bug")
