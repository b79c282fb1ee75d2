#!/bin/sh
# mx-send: replies, threads, edits, reactions, redactions.
. "${0%/*}/lib.sh"
need_homeserver
. "$MX_SRC/t/0300-send-lib.sh"

root=$(send_text "$alice_token" "$room" root) || setup_failed "a root message"

test_expect_success '--reply-to' '
	mx-send --reply-to "$root" "$room" answer >out && eid=$(sent out) &&
	content "$eid" >got &&
	jq -cn --arg r "$root" "{body:\"answer\",\"m.relates_to\":{\"m.in_reply_to\":{event_id:\$r}},msgtype:\"m.text\"}" >want &&
	test_cmp want got
'

test_expect_success '--thread: first reply falls back to the root' '
	mx-send --thread "$root" "$room" t1 >out && t1=$(sent out) &&
	echo "$t1" >t1.id &&
	content "$t1" >got &&
	jq -cn --arg r "$root" "{body:\"t1\",\"m.relates_to\":{event_id:\$r,is_falling_back:true,\"m.in_reply_to\":{event_id:\$r},rel_type:\"m.thread\"},msgtype:\"m.text\"}" >want &&
	test_cmp want got
'

test_expect_success '--thread: next reply falls back to the latest' '
	mx-send --thread "$root" "$room" t2 >out && t2=$(sent out) &&
	content "$t2" | jq -r ".\"m.relates_to\".\"m.in_reply_to\".event_id" >got &&
	test_cmp t1.id got
'

test_expect_success '--thread with --reply-to: a real reply' '
	t1=$(cat t1.id) &&
	mx-send --thread "$root" --reply-to "$t1" "$room" t3 >out &&
	eid=$(sent out) &&
	content "$eid" | jq -c ".\"m.relates_to\" | [.is_falling_back, .\"m.in_reply_to\".event_id]" >got &&
	jq -cn --arg e "$t1" "[false, \$e]" >want && test_cmp want got
'

test_expect_success '--edit: m.replace with fallback' '
	mx-send --edit "$root" -m "$room" "**new**" >out && eid=$(sent out) &&
	content "$eid" >got &&
	jq -cSn --arg r "$root" "{body:\"* **new**\",format:\"org.matrix.custom.html\",formatted_body:\"* <strong>new</strong>\",\"m.new_content\":{body:\"**new**\",format:\"org.matrix.custom.html\",formatted_body:\"<strong>new</strong>\",msgtype:\"m.text\"},\"m.relates_to\":{event_id:\$r,rel_type:\"m.replace\"},msgtype:\"m.text\"}" >want &&
	test_cmp want got
'

test_expect_success '--react: m.annotation with the key' '
	mx-send --react "$root" "$room" "👍" >out && eid=$(sent out) &&
	event "$eid" | jq -cS "[.type, .content]" >got &&
	jq -cSn --arg r "$root" "[\"m.reaction\",{\"m.relates_to\":{rel_type:\"m.annotation\",event_id:\$r,key:\"👍\"}}]" >want &&
	test_cmp want got
'

test_expect_success '--redact with --reason' '
	mx-send "$room" doomed >out && victim=$(sent out) &&
	mx-send --redact "$victim" --reason "typo" "$room" >out &&
	rid=$(sent out) &&
	event "$rid" | jq -c "[.type, .redacts // .content.redacts, .content.reason]" >got &&
	jq -cn --arg v "$victim" "[\"m.room.redaction\", \$v, \"typo\"]" >want &&
	test_cmp want got &&
	content "$victim" >got && echo "{}" >want && test_cmp want got
'

test_expect_success '--redact in a room we are not in: 3' '
	other=$(create_room "$bob_token") &&
	test_expect_code 3 mx-send --redact "$root" "$other" >out 2>err &&
	test ! -s out && grep -q "^mx-send: cannot send to .*M_FORBIDDEN" err
'

test_expect_success '--reply-to an event that does not exist: 3, nothing sent' '
	n=$(count_messages) &&
	test_expect_code 3 mx-send --reply-to "\$nope-$$" "$room" hi >out 2>err &&
	test ! -s out &&
	grep -q "^mx-send: --reply-to: no event .\$nope-$$. in " err &&
	test "$(count_messages)" = "$n"
'

test_expect_success '--react to an event of another room: 3, nothing sent' '
	other2=$(create_room "$alice_token") &&
	eid=$(send_text "$alice_token" "$other2" elsewhere) &&
	n=$(count_messages) &&
	test_expect_code 3 mx-send --react "$eid" "$room" x >out 2>err &&
	grep -q "^mx-send: --react: no event" err &&
	test "$(count_messages)" = "$n"
'

test_done
