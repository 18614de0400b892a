"""Risk before it goes wrong: late delivery of open orders (delivery.py) and stock-outs of
SKUs (stockout.py), scored from what the warehouse knows at a moment, with their measures
(metrics.py) and the store of trained models (model_store.py)."""
