"""Reference delivery-time (ETA) models: data cleaning, training, ONNX export, evaluation."""
