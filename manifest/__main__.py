"""`python -m manifest build --app-id ID --out hypercare-app.zip` (the same as `hypercare manifest …`)."""

import sys

from manifest.build import main

sys.exit(main(sys.argv[1:]))
