"""Date and time formats per language (settings.FORMAT_MODULE_PATH; docs/architecture.md, "Languages").

A date that could be read two ways is never read the other way: French reads d/m/Y (and ISO),
English only ISO Y-m-d, so "02/12/2026" is 2 December in French and a form error in English, never
12 February. The API's fields are ISO whatever the language (DRF's own settings, not these)."""
