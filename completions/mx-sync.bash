# bash completion for mx-sync(1)
_mx_sync()
{
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	-p|--profile)
		COMPREPLY=($(compgen -W "$(ls "${MX_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/mx}" 2>/dev/null)" -- "$cur"))
		return ;;
	--types)
		COMPREPLY=($(compgen -W 'm.room.message m.room.member
		    m.room.name m.room.topic m.reaction m.room.redaction
		    m.room.encrypted' -- "$cur"))
		return ;;
	--download)
		COMPREPLY=($(compgen -d -- "$cur"))
		return ;;
	--state-file|-o|--output)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--history|--from|--limit|--max-download|--download-mxc)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '-f --follow --history --from --emit-token --limit
		    --types --accept-invites --raw --download
		    --max-download --state-file --download-mxc -o --output
		    --key-stdin -h --help -V --version
		    -v --verbose -q --quiet -p --profile
		    --insecure-http' -- "$cur"))
	fi
}
complete -F _mx_sync mx-sync
