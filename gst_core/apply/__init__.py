"""Running a trained generator: pad-and-crop, translate, ONNX export (machinery, not contract)."""
