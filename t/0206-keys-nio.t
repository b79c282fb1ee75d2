#!/bin/sh
# Room keys between mx and matrix-nio, both ways.
. "$(dirname "$0")/lib.sh"
PEER_KIND=nio
. "$MX_SRC/t/0205-keys-interop.sh"
