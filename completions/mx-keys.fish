# fish completion for mx-keys(1)
complete -c mx-keys -f
complete -c mx-keys -n "not __fish_seen_subcommand_from login logout whoami devices trust accept rename export-identity export import delete backup" -a login -d 'log in and store the session'
complete -c mx-keys -n "not __fish_seen_subcommand_from login logout whoami devices trust accept rename export-identity export import delete backup" -a logout -d 'log out and delete the session'
complete -c mx-keys -n "not __fish_seen_subcommand_from login logout whoami devices trust accept rename export-identity export import delete backup" -a whoami -d 'print user, device and homeserver'
complete -c mx-keys -n "not __fish_seen_subcommand_from login logout whoami devices trust accept rename export-identity export import delete backup" -a devices -d 'list devices and their keys'
complete -c mx-keys -n "not __fish_seen_subcommand_from login logout whoami devices trust accept rename export-identity export import delete backup" -a trust -d 'mark a device verified'
complete -c mx-keys -n "not __fish_seen_subcommand_from login logout whoami devices trust accept rename export-identity export import delete backup" -a accept -d "accept a user's changed cross-signing keys"
complete -c mx-keys -n "not __fish_seen_subcommand_from login logout whoami devices trust accept rename export-identity export import delete backup" -a export-identity -d 'seal the device for MX_IDENTITY'
complete -c mx-keys -n "not __fish_seen_subcommand_from login logout whoami devices trust accept rename export-identity export import delete backup" -a rename -d 'rename one of our devices'
complete -c mx-keys -n "not __fish_seen_subcommand_from login logout whoami devices trust accept rename export-identity export import delete backup" -a export -d 'export room keys (Element format)'
complete -c mx-keys -n "not __fish_seen_subcommand_from login logout whoami devices trust accept rename export-identity export import delete backup" -a import -d 'import room keys from an export file'
complete -c mx-keys -n "not __fish_seen_subcommand_from login logout whoami devices trust accept rename export-identity export import delete backup" -a delete -d 'delete our own devices'
complete -c mx-keys -n "not __fish_seen_subcommand_from login logout whoami devices trust accept rename export-identity export import delete backup" -a backup -d 'the server-side key backup: status, restore, create'
complete -c mx-keys -n "__fish_seen_subcommand_from import" -F
complete -c mx-keys -n "__fish_seen_subcommand_from backup; and not __fish_seen_subcommand_from status restore create" -a status -d "describe the server's key backup"
complete -c mx-keys -n "__fish_seen_subcommand_from backup; and not __fish_seen_subcommand_from status restore create" -a restore -d 'restore room keys from the backup'
complete -c mx-keys -n "__fish_seen_subcommand_from backup; and not __fish_seen_subcommand_from status restore create" -a create -d "make a new backup of this profile's keys"
complete -c mx-keys -s u -l user -x -d 'log in as this user'
complete -c mx-keys -l homeserver -x -d 'the homeserver base URL'
complete -c mx-keys -l password-stdin -d 'read the password from stdin'
complete -c mx-keys -l token-stdin -d 'store an access token read from stdin'
complete -c mx-keys -l device-name -x -d 'name the new device'
complete -c mx-keys -l passphrase-file -r -F -d 'read a passphrase from a file'
complete -c mx-keys -l room -x -d 'devices: audit the members of a room; export: only its keys'
complete -c mx-keys -s o -l output -r -F -d 'export: write to a new file, not stdout'
complete -c mx-keys -l unverified-exit -d 'exit 1 when a device is not verified'
complete -c mx-keys -l snapshot -r -F -d "also write the server's answer to a file"
complete -c mx-keys -l table -d 'an aligned table, not JSON'
complete -c mx-keys -l force -d 'login: replace a session; delete: our own device too'
complete -c mx-keys -l older-than -x -d 'delete: devices last seen more than DAYS days ago'
complete -c mx-keys -l dry-run -d 'delete: say what would go, delete nothing'
complete -c mx-keys -l recovery-key-stdin -d 'backup restore, create: read the recovery key from stdin'
complete -c mx-keys -s h -l help -d 'print help and exit'
complete -c mx-keys -s V -l version -d 'print version and exit'
complete -c mx-keys -s v -l verbose -d 'say more; twice: trace HTTP'
complete -c mx-keys -s q -l quiet -d 'print errors only'
complete -c mx-keys -s p -l profile -x -d 'use this profile'
complete -c mx-keys -l insecure-http -d 'allow http:// to non-loopback hosts'
