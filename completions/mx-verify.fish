# fish completion for mx-verify(1)
complete -c mx-verify -f
complete -c mx-verify -n "not __fish_seen_subcommand_from sas fingerprint json cross-signing" -a sas -d 'verify a device by comparing emoji'
complete -c mx-verify -n "not __fish_seen_subcommand_from sas fingerprint json cross-signing" -a fingerprint -d 'verify a device by its Ed25519 key'
complete -c mx-verify -n "not __fish_seen_subcommand_from sas fingerprint json cross-signing" -a json -d 'check the signatures of JSON on stdin'
complete -c mx-verify -n "not __fish_seen_subcommand_from sas fingerprint json cross-signing" -a cross-signing -d "set up, show or reset this account's cross-signing"
complete -c mx-verify -n "__fish_seen_subcommand_from cross-signing; and not __fish_seen_subcommand_from setup status reset" -a 'setup status reset'
complete -c mx-verify -n "__fish_seen_subcommand_from sas" -l timeout -x -d 'wait this long for a request and each answer'
complete -c mx-verify -n "__fish_seen_subcommand_from sas" -l json -d 'print the SAS as JSON, read yes or no from stdin'
complete -c mx-verify -n "__fish_seen_subcommand_from sas" -l decimal -d 'also show the SAS as three numbers'
complete -c mx-verify -n "__fish_seen_subcommand_from cross-signing" -l password-stdin -d 'read the account password from stdin'
complete -c mx-verify -n "__fish_seen_subcommand_from json" -l key -x -d 'check against this Ed25519 public key'
complete -c mx-verify -n "__fish_seen_subcommand_from json" -l server -x -d 'keys of this server, signed by itself'
complete -c mx-verify -s h -l help -d 'print help and exit'
complete -c mx-verify -s V -l version -d 'print version and exit'
complete -c mx-verify -s v -l verbose -d 'say more; twice: trace HTTP'
complete -c mx-verify -s q -l quiet -d 'print errors only'
complete -c mx-verify -s p -l profile -x -d 'use this profile'
complete -c mx-verify -l insecure-http -d 'allow http:// to non-loopback hosts'
