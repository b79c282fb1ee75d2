#!/bin/sh
# mx against matrix-js-sdk 36 with its Rust crypto (Element's engine).
. "$(dirname "$0")/lib.sh"
PEER_KIND=js
. "$MX_SRC/t/0540-e2ee-peer.sh"
