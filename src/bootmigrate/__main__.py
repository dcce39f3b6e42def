"""``python -m bootmigrate``: the same as the ``bootmigrate`` command."""

from bootmigrate._cli import main

raise SystemExit(main())
