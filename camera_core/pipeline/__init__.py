"""The capture and processing layer: one `CameraPipeline` per camera (its capture loop reads the
source and feeds the recording pipeline and the latest-frame slot; its processor loop collates to
the target fps and renders the preview while someone watches), the latest-frame slot, and the
restart backoff of lost cameras. Above sources/ and recording/, below the system."""
