# bash completion for mx-verify(1)
_mx_verify()
{
	local cur prev i sub= opts
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	-p|--profile)
		COMPREPLY=($(compgen -W "$(ls "${MX_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/mx}" 2>/dev/null)" -- "$cur"))
		return ;;
	--timeout|--key|--server)
		return ;;
	--passphrase-file)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	esac
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-p|--profile|--timeout|--key|--server|--passphrase-file) ((i++)) ;;
		-*) ;;
		*) sub=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [[ $cur == -* ]]; then
		opts='-h --help -V --version -v --verbose -q --quiet
		    -p --profile --insecure-http'
		case $sub in
		sas|'') opts="$opts --timeout --json --decimal" ;;
		json) opts="$opts --key --server" ;;
		cross-signing) opts="$opts --password-stdin --recovery-key-stdin
		    --passphrase-file" ;;
		esac
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	elif [[ $sub == cross-signing && $prev == cross-signing ]]; then
		COMPREPLY=($(compgen -W 'setup status reset import' -- "$cur"))
	elif [[ -z $sub ]]; then
		COMPREPLY=($(compgen -W 'sas fingerprint json cross-signing' -- "$cur"))
	fi
}
complete -F _mx_verify mx-verify
