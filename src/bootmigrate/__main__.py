"""``python -m bootmigrate``: the same as the ``bootmigrate`` command."""

from bootmigrate._cli.main import main

raise SystemExit(main())
