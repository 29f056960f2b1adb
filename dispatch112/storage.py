"""Static files in production: WhiteNoise's compressed, hashed files, with the imports between
the front end's ES modules rewritten to the hashed names too (Django's
support_js_module_import_aggregation). Without it, `import … from "./live.js"` asks for the
plain name: the field app's offline cache (units.views.SHELL_FILES) holds only hashed names,
so a phone that visited once could not open the app offline. Django cannot rewrite modules
that import each other: the front end's module graph has no cycles (eslint's
dispatch112/no-import-cycle rule, and collectstatic in tests/test_settings.py)."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
