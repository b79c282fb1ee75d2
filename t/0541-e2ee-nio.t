#!/bin/sh
# mx against matrix-nio (libolm inside), the second peer.
. "$(dirname "$0")/lib.sh"
PEER_KIND=nio
. "$MX_SRC/t/0540-e2ee-peer.sh"
