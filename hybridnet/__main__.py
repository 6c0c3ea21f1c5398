"""``python -m hybridnet`` is the ``hybridnet`` command."""

from hybridnet.cli import main

main()
