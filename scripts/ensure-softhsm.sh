#!/usr/bin/env bash
# The bank host keeps its keys in an HSM through PKCS#11; its embedded default is SoftHSM2, which no PyPI
# package ships: install Debian's softhsm2 when missing. A bank that sets hsm.module needs none of this.
set -u
for lib in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*-linux-gnu/softhsm/libsofthsm2.so \
           /usr/lib64/pkcs11/libsofthsm2.so /usr/local/lib/softhsm/libsofthsm2.so; do
  if [ -e "$lib" ] && command -v softhsm2-util >/dev/null 2>&1; then exit 0; fi
done
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing softhsm2 (the bank host's embedded HSM)" >&2
  (apt-get install -y -q softhsm2 >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q softhsm2 >/dev/null 2>&1; }) \
    || { echo "could not install softhsm2; the bank host cannot start without an HSM" >&2; exit 1; }
else
  echo "the bank host's embedded HSM is SoftHSM2; run: sudo apt-get install softhsm2" >&2
  exit 1
fi
exit 0
