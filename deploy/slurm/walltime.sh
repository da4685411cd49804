# Seconds a pairs worker may take work for: the job's remaining time minus a 5-minute margin (so the last items
# are delivered before Slurm kills the job), or nothing when the job has no limit. Slurm also sends SIGTERM
# before the kill, which makes a worker drain as well.
pairs_drain_seconds() {
  local left
  left=$(squeue -h -j "${SLURM_JOB_ID:-0}" -o %L 2>/dev/null) || return 0
  case "$left" in ""|UNLIMITED|NOT_SET|INVALID) return 0 ;; esac
  local days=0 h=0 m=0 s=0 rest=$left
  if [[ $rest == *-* ]]; then days=${rest%%-*}; rest=${rest#*-}; fi
  IFS=: read -r -a parts <<<"$rest"
  case ${#parts[@]} in
    3) h=${parts[0]} m=${parts[1]} s=${parts[2]} ;;
    2) m=${parts[0]} s=${parts[1]} ;;
    1) s=${parts[0]} ;;
  esac
  local total=$(( ((10#$days * 24 + 10#$h) * 60 + 10#$m) * 60 + 10#$s ))
  if (( total > 600 )); then echo $(( total - 300 )); else echo $(( total > 60 ? total - 30 : total )); fi
}
