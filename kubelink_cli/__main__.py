"""``python -m kubelink_cli`` = ``kubelink``."""

from kubelink_cli.app import main

main()
