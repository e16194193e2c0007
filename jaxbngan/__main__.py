"""`python -m jaxbngan`: the same command line as the `jaxbngan` script."""

from jaxbngan.cli import main

raise SystemExit(main())
