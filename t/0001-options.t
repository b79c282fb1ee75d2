#!/bin/sh
# Every program's --help, man page and bash/zsh/fish completions name the
# same long options, the man pages are clean mdoc, and their EXAMPLES use
# only options the programs have; their quotes render whole and their Sx
# references stay within the page.
. "${0%/*}/lib.sh"

# Long options named in a file, one per line, sorted and unique.
from_help() { "$1" --help | grep -oE '^ +(-[A-Za-z], )?--[a-z][a-z0-9-]*' |
	grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }
from_man() { grep -oE 'Fl (\\-|-)[a-z][a-z0-9-]*' "$1" |
	sed -E 's/^Fl (\\-|-)/--/' | sort -u; }
from_bash() { grep -oE -- '--[a-z][a-z0-9-]*' "$1" | sort -u; }
from_fish() { grep -oE -- '(-l|--long-option) +["'"'"']?[a-z][a-z0-9-]*' "$1" |
	sed -E 's/^(-l|--long-option) +["'"'"']?/--/' | sort -u; }

for prog in $(cd "$MX_SRC" && ls cmd/mx-*.c | sed 's|cmd/||; s|\.c$||'); do
	man=$MX_SRC/man/$prog.1
	comp=$MX_SRC/completions
	test_expect_success "$prog --help lists the common options" "
		from_help $prog >help.$prog &&
		for o in --help --version --verbose --quiet --profile --insecure-http; do
			grep -qx -- \"\$o\" help.$prog || { echo missing \$o; exit 1; }
		done
	"
	test_expect_success "$prog(1) names the options of --help" "
		from_man $man >man.$prog && test_cmp help.$prog man.$prog
	"
	test_expect_success "$prog bash completion names the same options" "
		from_bash $comp/$prog.bash >bash.$prog &&
		test_cmp help.$prog bash.$prog
	"
	test_expect_success "$prog zsh completion names the same options" "
		from_bash $comp/_$prog >zsh.$prog && test_cmp help.$prog zsh.$prog
	"
	test_expect_success "$prog fish completion names the same options" "
		from_fish $comp/$prog.fish >fish.$prog &&
		test_cmp help.$prog fish.$prog
	"
	test_expect_success "$prog(1) is clean mdoc" "
		mandoc -Tlint -Wwarning $man
	"
	test_expect_success "$prog: unknown option is a usage error (2)" "
		test_expect_code 2 $prog --no-such-option 2>err &&
		grep -q \"^$prog: unknown option '--no-such-option'\\\$\" err
	"
	test_expect_success "$prog -V prints the version" "
		$prog -V >out && grep -qE '^$prog [0-9]+\\.[0-9]+' out
	"
done
test_expect_success 'mx(7) is clean mdoc' '
	mandoc -Tlint -Wwarning "$MX_SRC/man/mx.7"
'

# A page as a reader sees it, one paragraph (or tag and its body) a line.
rendered() {
	mandoc -Tascii "$1" | col -bx |
		awk 'NF { p = p " " $0; next }
			p != "" { print p; p = "" }
			END { if (p != "") print p }' | sed 's/   */ /g'
}

# Quoting that mdoc lint lets through but a reader sees broken: a Qq whose
# line holds another Qq or a literal quote ("index""", "state"}"), and a
# literal '"' starting a macro argument, which roff eats ({"a": 1, b: 2}).
for m in "$MX_SRC"/man/mx-*.1 "$MX_SRC"/man/mx.7; do
	page=$(basename "$m")
	test_expect_success "$page renders its quotes whole" "
		rendered $m >page.$page &&
		mandoc -Tascii $m | col -bx >page.$page.wide &&
		grep -E '\"\"|\\\\\"' page.$page >bad || : &&
		awk '{ n = gsub(/\"/, \"&\") } n % 2 { print \"odd quotes: \" \$0 }' \
			page.$page >>bad &&
		grep -E '(^|[^\$])[{,] *[A-Za-z_][A-Za-z0-9_]* *: *[{[\"]' \
			page.$page >>bad || : &&
		cat bad && test ! -s bad
	"
	test_expect_success "$page fits in 80 columns, but for JSON lines" "
		awk 'length(\$0) > 80 && \$1 !~ /^{/' page.$page.wide >bad &&
		cat bad && test ! -s bad
	"
	test_expect_success "$page refers only to its own sections (Sx)" "
		sed -n 's/^\.S[hs] //p' $m >sections &&
		sed -n 's/^\.Sx \(.*[^ .,;:)]\)[ .,;:)]*\$/\1/p' $m >refs &&
		: >bad && while read -r s; do
			grep -qxF \"\$s\" sections || echo \"no section '\$s'\" >>bad
		done <refs && cat bad && test ! -s bad
	"
done

# The README's list of programs is generated from mx(7)'s (mk/readme.sh -u),
# and mx(7) lists the programs there are.
test_expect_success "README's programs are mx(7)'s" '
	sh "$MX_SRC/mk/readme.sh" -c
'
test_expect_success 'mx(7) lists every program and no other' '
	sh "$MX_SRC/mk/readme.sh" | sed -n "s/^    \([a-z][a-z0-9-]*\) .*/\1/p" >listed &&
	(cd "$MX_SRC/cmd" && ls mx-*.c) | sed "s/\.c\$//" >programs &&
	test_cmp programs listed
'

# The mx invocations of the EXAMPLES sections, one per line, continuation
# lines joined, up to a pipe, with quoted command substitutions removed.
examples() {
	for m in "$MX_SRC"/man/mx-*.1 "$MX_SRC"/man/mx.7; do
		mandoc -Tascii "$m" | col -b |
			awk '/^EXAMPLES/ { f = 1; next } /^[A-Z][A-Z ]+$/ { f = 0 } f' |
			sed -e :a -e '/\\$/N; s/\\\n//; ta' |
			sed 's/"\$([^)]*)"//g' | grep -oE 'mx-(send|sync|keys|room|bridge-check)( +[^|]*)?'
	done
}

test_expect_success 'the EXAMPLES use only options the programs have' '
	examples >ex && test $(wc -l <ex) -ge 20 && : >bad &&
	while read -r prog args; do
		for w in $args; do
			case $w in
			--*) grep -qx -- "${w%%=*}" help.$prog ||
				echo "$prog: no $w" >>bad ;;
			-?) $prog --help | grep -qE -- "^ +$w, " ||
				echo "$prog: no $w" >>bad ;;
			esac
		done
	done <ex &&
	cat bad && test ! -s bad
'
test_done
