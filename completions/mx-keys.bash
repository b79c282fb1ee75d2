# bash completion for mx-keys(1)
_mx_keys()
{
	local cur prev i sub=
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	-p|--profile)
		COMPREPLY=($(compgen -W "$(ls "${MX_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/mx}" 2>/dev/null)" -- "$cur"))
		return ;;
	--passphrase-file|--snapshot|-o|--output)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	-u|--user|--homeserver|--device-name|--room|--older-than)
		return ;;
	esac
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-p|--profile|-u|--user|--homeserver|--device-name|--passphrase-file|--room|--snapshot|-o|--output|--older-than)
			((i++)) ;;
		-*) ;;
		*) sub=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [[ $cur == -* ]]; then
		local common='-h --help -V --version -v --verbose -q --quiet
		    -p --profile --insecure-http'
		case $sub in
		login|'')
			COMPREPLY=($(compgen -W "-u --user --homeserver
			    --password-stdin --token-stdin --device-name --force
			    --passphrase-file $common" -- "$cur")) ;;
		devices)
			COMPREPLY=($(compgen -W "--room --unverified-exit
			    --snapshot --table $common" -- "$cur")) ;;
		export-identity|import)
			COMPREPLY=($(compgen -W "--passphrase-file $common" \
			    -- "$cur")) ;;
		export)
			COMPREPLY=($(compgen -W "--room -o --output
			    --passphrase-file $common" -- "$cur")) ;;
		delete)
			COMPREPLY=($(compgen -W "--older-than --dry-run --force
			    --password-stdin $common" -- "$cur")) ;;
		backup)
			COMPREPLY=($(compgen -W "--recovery-key-stdin
			    --passphrase-file $common" -- "$cur")) ;;
		*)
			COMPREPLY=($(compgen -W "$common" -- "$cur")) ;;
		esac
	elif [[ -z $sub ]]; then
		COMPREPLY=($(compgen -W 'login logout whoami devices trust accept rename export-identity export import delete backup' -- "$cur"))
	elif [[ $sub == import ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
	elif [[ $sub == backup && $prev == backup ]]; then
		COMPREPLY=($(compgen -W 'status restore create' -- "$cur"))
	fi
}
complete -F _mx_keys mx-keys
