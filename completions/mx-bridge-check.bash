# bash completion for mx-bridge-check(1)
_mx_bridge_check()
{
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	--allow|--patterns)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	-p|--profile)
		COMPREPLY=($(compgen -W "$(ls "${MX_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/mx}" 2>/dev/null)" -- "$cur"))
		return ;;
	--fail-on)
		COMPREPLY=($(compgen -W "high warn info" -- "$cur"))
		return ;;
	--ignore)
		COMPREPLY=($(compgen -W "encryption history join servers power
		    bridge bridge-like behalf irc integrations devices upgrade" -- "$cur"))
		return ;;
	--servers|--appservice-ping|--probe-command|--probe-timeout)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '--all --table --fail-on
		    --require-encryption --servers --ignore --allow --patterns
		    --follow-upgrades --watch --appservice-ping --probe
		    --probe-command --probe-timeout
		    -h --help -V --version -v --verbose -q --quiet -p --profile
		    --insecure-http' -- "$cur"))
	fi
}
complete -F _mx_bridge_check mx-bridge-check
