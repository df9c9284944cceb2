#!/usr/bin/env bash
# The kiosk window on a real X display and its voice guidance need Debian packages no PyPI wheel ships:
#   x11    - the shared libraries Qt's xcb platform plugin loads (PySide6 bundles Qt, not these; without
#            them `make run` aborts with "could not load the Qt platform plugin xcb")
#   speech - espeak-ng, the speaker used when Qt has no text-to-speech voice (ADA §707 speech output)
# Usage: ensure-kiosk-runtime.sh [x11] [speech]   (no argument: both). Idempotent and quiet when all is
# present; as root it installs what is missing, otherwise it prints the one apt-get command.
# Exit 1 only when the X libraries are missing and Qt will use xcb (the window could not open anyway).
set -u

# Qt 6's xcb plugin, read from `ldd libqxcb.so libQt6XcbQpa.so.6` plus libxcb-cursor0 (dlopen'd since
# Qt 6.5) and the list in Qt's "Qt for X11 Requirements" that PySide6's docs refer to.
X11_PACKAGES=(
  libx11-6 libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1
  libxcb-util1 libxcb-xfixes0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon0 libxkbcommon-x11-0
)
SPEECH_PACKAGES=(espeak-ng)

groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(x11 speech)

# Not Debian/Ubuntu: nothing this script can check; Qt's own error names what is missing.
command -v dpkg >/dev/null 2>&1 || exit 0

installed() {
  # `dpkg -s` also succeeds for a removed package whose config files remain: require "install ok installed".
  dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'
}

missing=()
x11_missing=0
for group in "${groups[@]}"; do
  case "$group" in
    x11) wanted=("${X11_PACKAGES[@]}") ;;
    speech) wanted=("${SPEECH_PACKAGES[@]}") ;;
    *) echo "ensure-kiosk-runtime.sh: unknown group '$group' (x11, speech)" >&2; exit 2 ;;
  esac
  for package in "${wanted[@]}"; do
    if ! installed "$package"; then
      missing+=("$package")
      [ "$group" = x11 ] && x11_missing=1
    fi
  done
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} (the kiosk's X display libraries / voice guidance)" >&2
  if (apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "${missing[@]}" >/dev/null 2>&1; }); then
    exit 0
  fi
  echo "could not install ${missing[*]}" >&2
else
  echo "the kiosk needs these packages; run: sudo apt-get install -y ${missing[*]}" >&2
fi
# Only a window that cannot open is fatal; without espeak-ng the kiosk logs what it would have said.
if [ "$x11_missing" = 1 ] && [ "${QT_QPA_PLATFORM:-xcb}" = xcb ]; then exit 1; fi
exit 0
