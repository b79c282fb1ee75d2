# bash completion for mx-send(1)
_mx_send()
{
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	-f|--file)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	-p|--profile)
		COMPREPLY=($(compgen -W "$(ls "${MX_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/mx}" 2>/dev/null)" -- "$cur"))
		return ;;
	--trust)
		COMPREPLY=($(compgen -W "tofu verified all" -- "$cur"))
		return ;;
	--code|--name|--reply-to|--thread|--edit|--react|--redact|--reason)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '-m --markdown --html --code -n --notice
		    -e --emote -f --file --name --reply-to --thread --edit --react
		    --redact --reason --json --lines --strict --join --trust
		    --require-encryption --allow-plaintext -h --help
		    -V --version -v --verbose -q --quiet -p --profile
		    --insecure-http' -- "$cur"))
	fi
}
complete -F _mx_send mx-send
