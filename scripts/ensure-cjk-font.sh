#!/usr/bin/env bash
# Chinese screens need a CJK font, which no PyPI package ships: install Debian's fonts-noto-cjk when missing.
set -u
if fc-list 2>/dev/null | grep -qi 'Noto Sans CJK\|Noto Serif CJK'; then exit 0; fi
if [ -d /usr/share/fonts/opentype/noto ] && ls /usr/share/fonts/opentype/noto 2>/dev/null | grep -qi cjk; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing fonts-noto-cjk (Chinese screens need a CJK font)" >&2
  (apt-get install -y -q fonts-noto-cjk fontconfig >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q fonts-noto-cjk fontconfig >/dev/null 2>&1; }) \
    || echo "could not install fonts-noto-cjk; Chinese text will show as boxes" >&2
else
  echo "Chinese screens need a CJK font; run: sudo apt-get install fonts-noto-cjk" >&2
fi
exit 0
