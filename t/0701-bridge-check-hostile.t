#!/bin/sh
# mx-bridge-check against a hostile server (t/fakehs.py --state): state
# events of every wrong shape are skipped or judged, never crash it, never
# hide a finding; --table shows no control character; a state answer that
# is not a JSON array is an error, not a clean bill.
. "${0%/*}/lib.sh"

# check ARGS...: mx-bridge-check against the fake server.
check() {
	MX_HOMESERVER=$FAKE MX_ACCESS_TOKEN=fake-token mx-bridge-check "$@"
}

cat >hostile.json <<\EOF_STATE
[42, "x", null, {}, {"type": "m.room.name"},
 {"type": "m.room.create", "state_key": "", "sender": "@fake:localhost",
  "content": {"room_version": "12", "additional_creators": [7, "@c2:localhost"]},
  "event_id": "$create"},
 {"type": "m.room.encryption", "state_key": "", "content": [], "event_id": "$enc"},
 {"type": "m.room.history_visibility", "state_key": "", "content": {"history_visibility": 5}},
 {"type": "m.room.join_rules", "state_key": "", "content": {"join_rule": "restricted", "allow": {"room_id": "!x:y"}}},
 {"type": "m.room.power_levels", "state_key": "", "content": {"users": {"@evilbot:localhost": "100", "@fake:localhost": 1e300}, "invite": "0", "events": []}},
 {"type": "m.room.member", "state_key": "nocolon", "content": {"membership": "join"}},
 {"type": "m.room.member", "state_key": "@empty:", "content": {"membership": "join"}},
 {"type": "m.room.member", "state_key": "@a:localhost", "content": null},
 {"type": "m.room.member", "state_key": "@fake:localhost", "content": {"membership": "join"}},
 {"type": "m.room.member", "state_key": "@telegrambot:evil.example", "content": {"membership": "join"}, "event_id": "$tg"},
 {"type": "m.bridge", "state_key": "a", "content": "not an object", "sender": "@m:localhost"},
 {"type": "m.bridge", "state_key": "b", "content": {"bridgebot": 17, "protocol": "irc"}, "sender": "@mallory:evil.example", "event_id": "$b"},
 {"type": "uk.half-shot.bridge", "state_key": "c", "content": {"protocol": {"id": "x"}}},
 {"type": "im.vector.modular.widgets", "state_key": "w", "content": {"name": "\u001b[31mred\u0007\u009b2J", "url": "javascript:alert(1)"}, "event_id": "$w"},
 {"type": "m.room.tombstone", "state_key": "", "content": {"replacement_room": 5}},
 {"type": "io.element.functional_members", "state_key": "", "content": {"service_members": "@a:localhost"}}
]
EOF_STATE

setup start_fake ok --state hostile.json

test_expect_success 'every shape is survived; each finding still shows' '
	test_expect_code 1 check "!r:localhost" >out 2>err &&
	test ! -s err &&
	jq -s -e "length > 3" out >/dev/null &&
	jq -s -e "any(.[]; .check == \"encryption\" and .severity == \"high\" and
		(.detail | contains(\"(none)\")))" out >/dev/null &&
	jq -s -e "any(.[]; .check == \"bridge\" and .subject == \"@mallory:evil.example\"
		and .bridge.status == \"claimed\" and .bridge.protocol == null)" out >/dev/null &&
	jq -s -e "any(.[]; .check == \"bridge-like\" and
		.subject == \"@telegrambot:evil.example\")" out >/dev/null &&
	jq -s -e "any(.[]; .check == \"integrations\" and .subject == \"(no host)\" and
		(.detail | contains(\"\\u001b[31m\")))" out >/dev/null &&
	jq -s -e "any(.[]; .check == \"power\" and .subject == \"@c2:localhost\")" out >/dev/null &&
	jq -s -e "[.[] | select(.check == \"bridge\")] | length == 1" out >/dev/null &&
	jq -s -e "[.[] | select(.check == \"upgrade\")] | length == 0" out >/dev/null
'

test_expect_success '--table shows no control character' '
	test_expect_code 1 check --table "!r:localhost" >out &&
	grep -q "widget .?\\[31mred??2J." out &&
	! LC_ALL=C grep -q "$(printf "[\\001-\\011\\013-\\037\\177]")" out &&
	! grep -q "$(printf "\\302\\233")" out
'

# Timelines of every wrong shape for check 8; one event carries a
# forged verdict, as if its room key were another user's.
cat >timeline.json <<\EOF_MSG
{"chunk": [42, null, {}, {"sender": 5, "event_id": "$n"},
 {"type": "m.room.message", "sender": "@dp:localhost", "event_id": "$dp1",
  "content": {"body": "x", "fi.mau.double_puppet_source": {"x": 1}}},
 {"type": "m.room.message", "sender": "@dp:localhost", "event_id": "$dp2",
  "content": {"fi.mau.double_puppet_source": "\u001b[31mred\u0007"}},
 {"type": "m.room.message", "sender": "@nodp:localhost",
  "content": {"fi.mau.double_puppet_source": "x"}},
 {"type": "m.room.encrypted", "sender": "@e:localhost", "event_id": "$e",
  "content": "x"},
 {"type": "m.room.message", "sender": "@f:localhost", "event_id": "$f",
  "content": {"body": "x"}, "mx": {"decrypted": false,
  "error": "session belongs to another sender", "session_sender": "@g:localhost"}}]}
EOF_MSG

test_expect_success 'check 8: a hostile timeline, a forged verdict ignored' '
	start_fake ok --state hostile.json --messages timeline.json &&
	test_expect_code 1 check "!r:localhost" >out 2>err &&
	test ! -s err &&
	jq -s -e "[.[] | select(.check == \"behalf\")] | length == 1" out &&
	jq -s -e "any(.[]; .check == \"behalf\" and .subject == \"@dp:localhost\"
		and .severity == \"warn\" and (.evidence | map(.event_id)) == [\"\$dp1\", \"\$dp2\"]
		and (.detail | contains(\"(unnamed)\")))" out >/dev/null &&
	test_expect_code 1 check --table "!r:localhost" >out &&
	grep -q "^  warn  behalf       @dp:localhost: 2 of the last 50" out &&
	! LC_ALL=C grep -q "$(printf "[\001-\011\013-\037\177]")" out &&
	echo "{\"chunk\": {}}" >object.json &&
	start_fake ok --state hostile.json --messages object.json &&
	test_expect_code 1 check "!r:localhost" >out 2>err &&
	test ! -s err && ! grep -q behalf out
'

test_expect_success 'a state answer that is not an array is an error' '
	echo "{\"type\": \"m.room.encryption\"}" >object.json &&
	start_fake ok --state object.json &&
	test_must_fail check "!r:localhost" >out 2>err &&
	test ! -s out && grep -q "^mx-bridge-check: cannot read the state of" err &&
	echo "[{\"type\": " >cut.json &&
	start_fake ok --state cut.json &&
	test_must_fail check "!r:localhost" >out 2>err &&
	test ! -s out && grep -q "^mx-bridge-check: cannot read the state of" err
'

test_expect_success 'a refusal is 3, a server error 4, per room' '
	start_fake 403 &&
	test_expect_code 3 check "!r:localhost" >out 2>err &&
	start_fake always-500 &&
	test_expect_code 4 check "!r:localhost" >out 2>err
'

test_done
