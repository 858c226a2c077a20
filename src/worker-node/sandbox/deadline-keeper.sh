# The deadline keeper (deadline-keeper.ts): removes each sandbox whose deadline has passed, whether or not its
# worker still lives. $1: the directory of entries, $2: podman. An entry is a file `<key>` holding one line
# `<deadline in seconds of /proc/uptime> <container name or id> <pod or -> <owner pid or ->`: an entry with an owner (a sandbox
# still waiting for its job) is also due once that process is gone. It exits once no entry is left. It calls the
# podman command line, not the node's libpod service, because it must outlive the node (deadline-keeper.ts).
dir=$1 podman=$2
exec 9>>"$dir/.lock" || exit 1
# One keeper per directory: a second waits here until the first has gone.
flock 9 || exit 1
while :; do
  read -r up _ </proc/uptime
  now=${up%.*} left=
  for f in "$dir"/*; do
    [ -f "$f" ] || continue
    read -r at container pod owner <"$f" || continue
    if [ "$now" -lt "$at" ] && { [ "$owner" = - ] || kill -0 "$owner" 2>/dev/null; }; then
      left=1
      continue
    fi
    # An entry goes only once both are gone: `pod rm` can give up when it races a member's own removal.
    if "$podman" rm --force --ignore --time=0 "$container" >/dev/null 2>&1 9>&- &&
      { [ "$pod" = - ] || "$podman" pod rm --force --ignore --time=0 "$pod" >/dev/null 2>&1 9>&-; }; then
      rm -f "$f"
    else
      left=1
    fi
  done
  [ -n "$left" ] || exit 0
  sleep 1 9>&-
done
