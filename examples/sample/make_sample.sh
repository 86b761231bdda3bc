#!/usr/bin/env bash
# Regenerate the bundled sample recording from interview-script.txt.
#
# Each turn is spoken by espeak-ng (interviewer and expert in clearly different voices), its
# leading and trailing silence trimmed, and placed on its own channel of a two-channel file:
# the interviewer on the left, the expert on the right, silence on the other channel while one
# speaks, a short pause between turns. The result is Opus in Ogg (small enough to ship), and
# turns.json records each turn's speaker, text, start and end seconds in that file: computed
# from sample counts while generating, so tests can use it as ground truth.
#
# Needs: espeak-ng, ffmpeg/ffprobe (with libopus), python3. Usage: examples/sample/make_sample.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SCRIPT="$HERE/interview-script.txt"
OUT="${OUT:-$HERE/interview.ogg}"
TURNS="${TURNS:-$HERE/turns.json}"

INTERVIEWER="Priya Shah"
INTERVIEWER_VOICE="${INTERVIEWER_VOICE:-en-gb+f3}"
EXPERT_VOICE="${EXPERT_VOICE:-en-us+m7}"
SPEED="${SPEED:-155}"     # words per minute (espeak-ng -s)
RATE=22050                # espeak-ng's native sample rate; everything stays on it until encoding
LEAD_IN=0.5               # seconds of silence before the first turn
PAUSE=0.6                 # seconds of silence after each turn
BITRATE="${BITRATE:-32k}"  # below ~32k, stereo Opus couples the channels and the expert leaks into the left

for tool in espeak-ng ffmpeg ffprobe python3; do
  command -v "$tool" >/dev/null || { echo "make_sample.sh: $tool is not installed" >&2; exit 1; }
done

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

samples() {  # the number of audio samples in a WAV file
  ffprobe -v error -select_streams a:0 -show_entries stream=duration_ts -of csv=p=0 "$1"
}

pause_samples=$(python3 -c "print(round($PAUSE * $RATE))")
lead_samples=$(python3 -c "print(round($LEAD_IN * $RATE))")
trim="silenceremove=start_periods=1:start_threshold=-50dB,areverse,silenceremove=start_periods=1:start_threshold=-50dB,areverse"

# the lead-in: stereo silence
ffmpeg -nostdin -v error -f lavfi -i "anullsrc=r=$RATE:cl=stereo" -af "atrim=end_sample=$lead_samples" \
  -c:a pcm_s16le "$WORK/000.wav"
echo "file '$WORK/000.wav'" >"$WORK/list.txt"
position=$lead_samples
: >"$WORK/turns.tsv"

n=0
while IFS= read -r line || [ -n "$line" ]; do
  [ -z "${line// }" ] && continue
  speaker="${line%%:*}"
  text="${line#*: }"
  n=$((n + 1))
  id=$(printf '%03d' "$n")
  if [ "$speaker" = "$INTERVIEWER" ]; then
    voice=$INTERVIEWER_VOICE; pan="pan=stereo|c0=c0|c1=0*c0"  # left channel
  else
    voice=$EXPERT_VOICE; pan="pan=stereo|c0=0*c0|c1=c0"       # right channel
  fi
  espeak-ng </dev/null -v "$voice" -s "$SPEED" -w "$WORK/$id-raw.wav" -- "$text"
  ffmpeg -nostdin -v error -i "$WORK/$id-raw.wav" -af "$trim" -c:a pcm_s16le "$WORK/$id-speech.wav"
  speech=$(samples "$WORK/$id-speech.wav")
  ffmpeg -nostdin -v error -i "$WORK/$id-speech.wav" -af "$pan,apad=pad_len=$pause_samples" \
    -c:a pcm_s16le "$WORK/$id.wav"
  printf '%s\t%s\t%s\t%s\n' "$speaker" "$position" "$((position + speech))" "$text" >>"$WORK/turns.tsv"
  position=$((position + speech + pause_samples))
  echo "file '$WORK/$id.wav'" >>"$WORK/list.txt"
done <"$SCRIPT"

# Opus in Ogg, speech-tuned; no metadata that changes from run to run
ffmpeg -nostdin -v error -y -f concat -safe 0 -i "$WORK/list.txt" -map_metadata -1 -fflags +bitexact \
  -c:a libopus -b:a "$BITRATE" -application voip -ar 48000 "$OUT"

python3 - "$WORK/turns.tsv" "$TURNS" "$RATE" "$INTERVIEWER" "$INTERVIEWER_VOICE" "$EXPERT_VOICE" \
  "$SPEED" "$(basename "$OUT")" <<'PY'
import json, sys

tsv, out, rate, interviewer, iv_voice, ex_voice, speed, media = sys.argv[1:]
rate = int(rate)
turns = []
for row in open(tsv, encoding="utf-8"):
    speaker, start, end, text = row.rstrip("\n").split("\t", 3)
    left = speaker == interviewer
    turns.append({
        "n": len(turns) + 1,
        "speaker": speaker,
        "role": "interviewer" if left else "expert",
        "channel": "left" if left else "right",
        "start": round(int(start) / rate, 3),
        "end": round(int(end) / rate, 3),
        "text": text,
    })
doc = {
    "media": media,
    "channels": {"left": interviewer, "right": next(t["speaker"] for t in turns if t["channel"] == "right")},
    "voices": {"interviewer": iv_voice, "expert": ex_voice, "speed_wpm": int(speed)},
    "turns": turns,
}
with open(out, "w", encoding="utf-8") as fh:
    json.dump(doc, fh, indent=2, ensure_ascii=False)
    fh.write("\n")
PY

duration=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$OUT")
size=$(wc -c <"$OUT")
echo "wrote $OUT (${duration} s, ${size} bytes, $n turns) and $TURNS" >&2
