# bash completion for mx-room(1)
_mx_room()
{
	local cur prev i sub= opts
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	-p|--profile)
		COMPREPLY=($(compgen -W "$(ls "${MX_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/mx}" 2>/dev/null)" -- "$cur"))
		return ;;
	--membership)
		COMPREPLY=($(compgen -W "join invite knock leave ban" -- "$cur"))
		return ;;
	--name|--topic|--alias|--invite|--dm|--reason)
		return ;;
	esac
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-p|--profile|--name|--topic|--alias|--invite|--dm|--reason|--membership)
			((i++)) ;;
		-*) ;;
		*) sub=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [[ $cur == -* ]]; then
		opts='-h --help -V --version -v --verbose -q --quiet
		    -p --profile --insecure-http'
		case $sub in
		create|'')
			opts="$opts --name --topic --alias --public --encrypted
			    --no-encryption --invite --dm" ;;
		leave) opts="$opts --forget" ;;
		kick|ban|unban) opts="$opts --reason" ;;
		members) opts="$opts --membership" ;;
		esac
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	elif [[ -z $sub ]]; then
		COMPREPLY=($(compgen -W 'list invites create join leave invite
		    kick ban unban members state set name topic avatar encrypt
		    power alias' -- "$cur"))
	fi
}
complete -F _mx_room mx-room
