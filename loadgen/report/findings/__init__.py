"""The diagnosis's findings, one module per family; `report/diagnosis.py` orders them."""
