import sys

from comma_bench.cli import main

sys.exit(main())
