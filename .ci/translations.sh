#!/usr/bin/env bash
# The French catalogues (docs/architecture.md, "Languages"): every app with a locale/ folder has its
# own <app>/locale/fr/LC_MESSAGES/django.po and the compiled django.mo next to it (committed, so
# `make run` needs no gettext).
#
#   .ci/translations.sh update   refresh every catalogue from the code (makemessages -l fr), then
#                                compile them (compilemessages); translate what it added, run again
#   .ci/translations.sh check    fail, listing them, if a msgid in the code is untranslated or fuzzy
#                                in its catalogue (makemessages run on a temporary copy: nothing in
#                                the work tree changes), or if a .mo is out of date with its .po
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
LANGUAGE=fr
# The same options for both, so `check` sees exactly what `update` would write.
MAKEMESSAGES_OPTIONS=(-l "$LANGUAGE" --no-wrap --add-location=file --no-obsolete)

if ! command -v msgfmt >/dev/null; then
  echo "gettext (msgfmt, msgmerge, xgettext) is missing: apt-get install gettext" >&2
  exit 2
fi

# The app directories that have a catalogue (keneyapp/core, keneyapp/accounts, patients, ...).
app_dirs() {
  find . -path ./.venv -prune -o -path ./node_modules -prune -o -type d -name locale -print \
    | grep -v '/\.' | sed 's|^\./||; s|/locale$||' | sort
}

manage() { DEBUG=1 "$PYTHON" "$ROOT/manage.py" "$@"; }

update() {
  local dir
  for dir in $(app_dirs); do
    echo "== $dir"
    (cd "$dir" && manage makemessages "${MAKEMESSAGES_OPTIONS[@]}" >/dev/null)
    (cd "$dir" && manage compilemessages -l "$LANGUAGE" >/dev/null)
  done
  echo "Catalogues updated and compiled; translate any new msgid (check lists them)."
}

# msgids of a .po (one per line) that are untranslated (or fuzzy, with --only-fuzzy), header aside.
missing() {
  msgattrib --no-wrap --no-obsolete "$1" "$2" | awk '
    /^msgid / { id = substr($0, 7) }
    /^msgid_plural / { next }
    /^msgstr/ { if (id != "\"\"" && id != "") print "    " id; id = "" }'
}

check() {
  local dir tmp failed=0 po mo
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  for dir in $(app_dirs); do
    po="$dir/locale/$LANGUAGE/LC_MESSAGES/django.po"
    mo="${po%.po}.mo"
    if [ ! -f "$po" ]; then
      echo "$dir: no $po (run .ci/translations.sh update)"; failed=1; continue
    fi
    # makemessages on a copy of the app: the code's msgids merged into a copy of the catalogue.
    mkdir -p "$tmp/$dir"
    cp -R "$dir/." "$tmp/$dir/"
    (cd "$tmp/$dir" && manage makemessages "${MAKEMESSAGES_OPTIONS[@]}" >/dev/null)
    local untranslated fuzzy
    untranslated=$(missing --untranslated "$tmp/$po")
    fuzzy=$(missing --only-fuzzy "$tmp/$po")
    if [ -n "$untranslated" ]; then
      printf '%s: untranslated in %s:\n%s\n' "$dir" "$po" "$untranslated"; failed=1
    fi
    if [ -n "$fuzzy" ]; then
      printf '%s: fuzzy in %s:\n%s\n' "$dir" "$po" "$fuzzy"; failed=1
    fi
    # The committed .mo must hold what the committed .po says (compared as catalogues, so another
    # gettext version's byte layout is no difference).
    if [ ! -f "$mo" ]; then
      echo "$dir: no $mo (run .ci/translations.sh update)"; failed=1; continue
    fi
    msgfmt --check-format -o "$tmp/fresh.mo" "$po"
    if ! "$PYTHON" - "$mo" "$tmp/fresh.mo" <<'PY'
import gettext, sys
committed, fresh = (gettext.GNUTranslations(open(path, "rb"))._catalog for path in sys.argv[1:3])
sys.exit(0 if committed == fresh else 1)
PY
    then
      echo "$dir: $mo is out of date with $po (run .ci/translations.sh update)"; failed=1
    fi
  done
  if [ "$failed" = 0 ]; then echo "Translations: every msgid translated, every .mo up to date."; fi
  return "$failed"
}

case "${1:-}" in
  update) update ;;
  check) check ;;
  *) echo "usage: $0 update|check" >&2; exit 2 ;;
esac
