"""``kubelink``, the command-line client of kubelink's HTTP API (README "Command-line client").

It speaks only HTTP to a running kubelink (the local host of ``make run``, or the Functions app in Azure) and
imports nothing from the app: the same client (``kubelink_cli.client``) serves the CLI, the demo and the tests.
"""
