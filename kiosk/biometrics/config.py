"""Tunable biometric parameters. The app settings map onto this frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass

# Calibrated on ../shared/faces with scripts/calibrate_face_threshold.py; see docs/biometrics.md.
# face_recognition's own default is 0.6; a bank errs towards refusing an impostor.
DEFAULT_MATCH_THRESHOLD = 0.5


@dataclass(frozen=True)
class BiometricsConfig:
    """Everything the detector, the matcher and the liveness check can be tuned with."""

    # 1:1 match: the largest face matches when the Euclidean distance of the 128-d encodings is <= this.
    threshold: float = DEFAULT_MATCH_THRESHOLD
    # HOG detection runs on a copy scaled by this factor ...
    detection_scale: float = 0.5
    # ... but never shrunk below this short side (an ID-card photo is small already).
    detection_min_side: int = 240
    # dlib upsampling of the detection copy: 1 finds faces of ~80 px in a 640x480 frame at scale 0.5.
    detection_upsample: int = 1
    # A second face at least this fraction of the largest face's area means "please stand alone".
    several_faces_min_area_ratio: float = 0.2
    # A face box this close (px, detection copy) to the frame edge counts as cut off.
    partial_face_margin_px: int = 1
    num_jitters: int = 1

    # Liveness: a randomised challenge of this many steps (blink, turn left, turn right).
    challenge_steps: int = 2
    # Frames with one face whose eye aspect ratio and head yaw form this session's baseline.
    baseline_frames: int = 5
    # A blink: EAR falls below baseline * close ratio, then returns above baseline * reopen ratio.
    blink_close_ratio: float = 0.72
    blink_reopen_ratio: float = 0.88
    # A head turn: the 3-D head pose (solvePnP, roll removed) turns by this many degrees from the
    # baseline, and the nose moves against the plane of brows, eyes and lips by this many inter-ocular
    # distances the same way (parallax: a flat picture has none). The opposite turn fails the step.
    # Chosen on docs/biometrics.md's measurements: flat pictures tilted 15-20 deg stay within 4.5 deg and
    # 0.03; the virtual person's turns reach 8.7-34 deg and 0.067-0.125.
    turn_min_yaw_deg: float = 7.0
    turn_min_parallax: float = 0.06
    # Whether the camera image is mirrored (a selfie preview); flips which way "left" is.
    camera_mirrored: bool = False
    # Each step must be done within this many seconds of its prompt: a person reacts in well under a
    # second and a turn or blink takes another; a replayed clip doing its own routine rarely fits.
    step_timeout_s: float = 2.5
    # Before each prompt the customer keeps looking at the camera for a random time in this range (s);
    # a turn in it fails the attempt: nobody asked for it, so it is a replay doing its own routine. The
    # random pause is what puts the prompt at a moment a replay cannot know. Its spread (2.5 s) is as
    # wide as the step's window: a routine with a fixed gap between its actions can then not land its
    # next action in the window whatever the pause (with 0.5-1.5 s a routine whose gap was 1.5 s passed
    # whenever its order matched the challenge's: 3 of 16 sessions).
    hold_s: tuple[float, float] = (0.5, 3.0)
    # An action seen sooner than this after its prompt began before it: a turn is a failure, a blink
    # is not counted (people blink by themselves). Human visual reaction times start near 0.2 s.
    reaction_min_s: float = 0.2
    baseline_timeout_s: float = 5.0
    # Motion check: consecutive frames (downscaled, blurred grey) differing by at least this mean
    # grey level count as "changed"; at least this fraction of pairs must change.
    motion_min_mean_diff: float = 0.5
    motion_min_changed_fraction: float = 0.3
    motion_min_pairs: int = 8
    max_attempts: int = 3
    # Passive presentation-attack detection (MiniFASNet, kiosk/biometrics/passive.py) beside the challenge:
    # every this many frames with a face get a live score; a completed challenge whose frames' median
    # score is below the minimum fails the attempt as a print or screen. 0 frames: not used.
    # 0.5 refused no genuine image or session measured (docs/biometrics.md), and every replayed
    # recording on a screen.
    passive_every_frames: int = 5
    passive_min_live: float = 0.5

    # Worker process.
    request_timeout_s: float = 15.0
    startup_timeout_s: float = 60.0


def config_from_settings(section: object, base: BiometricsConfig | None = None) -> BiometricsConfig:
    """Map the app's ``settings.biometrics`` section onto the config (fields it lacks keep defaults)."""
    from dataclasses import replace

    names = {
        "threshold": "threshold",
        "detection_scale": "detection_scale",
        "liveness_challenges": "challenge_steps",
        "challenge_steps": "challenge_steps",
        "max_attempts": "max_attempts",
        "camera_mirrored": "camera_mirrored",
        "step_timeout_s": "step_timeout_s",
    }
    values = {ours: getattr(section, theirs) for theirs, ours in names.items() if hasattr(section, theirs)}
    return replace(base or BiometricsConfig(), **values)
