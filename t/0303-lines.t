#!/bin/sh
# mx-send --lines: one message per stdin line, sent as each arrives.
. "${0%/*}/lib.sh"
need_homeserver
. "$MX_SRC/t/0300-send-lib.sh"

setup mkfifo fifo

test_expect_success 'each line is sent before stdin closes' '
	: >out &&
	{ mx-send --lines "$room" <fifo >out 2>err; echo $? >status; } &
	exec 9>fifo &&
	echo first >&9 &&
	i=0; while [ $(wc -l <out) -lt 1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done &&
	test $(wc -l <out) = 1 && e1=$(sent out) &&
	last_body >got && echo first >want && test_cmp want got &&
	printf "\nsecond\n" >&9 &&
	i=0; while [ $(wc -l <out) -lt 2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done &&
	test $(wc -l <out) = 2 && last_body >got &&
	echo second >want && test_cmp want got &&
	exec 9>&- && wait && echo 0 >want && test_cmp want status &&
	test ! -s err
'

test_expect_success '--lines with --notice and no input sends nothing' '
	n=$(count_messages) &&
	mx-send --lines -n "$room" </dev/null >out 2>err &&
	test ! -s out && test ! -s err &&
	test "$(count_messages)" = "$n"
'

test_expect_success '--lines skips a line that is not UTF-8, sends the rest, exits 5' '
	printf "first\nsecond \377\nthird\n" |
		test_expect_code 5 mx-send --lines "$room" >out 2>err &&
	test $(wc -l <out) = 2 &&
	grep -qx "mx-send: stdin line 2 is not UTF-8 text (a NUL byte or an invalid sequence); skipped" err &&
	grep -qx "mx-send: 1 line of stdin not sent (not UTF-8 text)" err &&
	last_body >got && echo third >want && test_cmp want got
'

test_expect_success '--lines --strict stops at a line that is not UTF-8 (5), naming it' '
	printf "first\nsecond \377\nthird\n" |
		test_expect_code 5 mx-send --lines --strict "$room" >out 2>err &&
	test $(wc -l <out) = 1 &&
	grep -qx "mx-send: stdin line 2 is not UTF-8 text (a NUL byte or an invalid sequence)" err &&
	last_body >got && echo first >want && test_cmp want got
'

test_done
