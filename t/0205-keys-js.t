#!/bin/sh
# Room keys between mx and matrix-js-sdk 36 (Element's engine), both ways.
. "$(dirname "$0")/lib.sh"
PEER_KIND=js
. "$MX_SRC/t/0205-keys-interop.sh"
