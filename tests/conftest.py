# Copyright (c) off_plugin authors. All rights reserved.
# Apply off_plugin's compat fixes before any test module imports a host
# package (e.g. albumentations' network update check via mmagic).
import off_plugin  # noqa: F401
