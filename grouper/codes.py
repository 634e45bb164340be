"""One home for the engine's codes: the status texts of the output (FORMAT.md 6-7), the kernel's
numeric status per record, and the step kinds of adrg.csv with their kernel codes."""

from __future__ import annotations

# Output status (the `status` column), Chinese as the CHS-DRG specification writes them
STATUS_OK = "分组成功"
STATUS_QY = "歧义病案"
STATUS_FAIL = "无法入组"
STATUS_INPUT = "信息校验不通过"
STATUS_DX_MAP = "诊断不能转换为分组器支持的编码"
STATUS_PX_MAP = "手术操作不能转换为分组器支持的编码"

# Kernel status per record: 0 grouped (or not), 1-5 the failed input check of FORMAT.md 5.3,
# 6 / 7 a diagnosis / procedure that the map cannot convert (map mode)
STAT_GROUPED = 0
STAT_DX_MAP = 6
STAT_PX_MAP = 7
STAT_REJECT = 8  # 8 + k: reject rule k of reject.csv held (FORMAT.md 5.4)

# Step kinds of adrg.csv and their kernel codes
KIND_CODE = {"adrg": 0, "adrg_next": 1, "qy": 2}
KIND_ADRG, KIND_NEXT, KIND_QY = KIND_CODE["adrg"], KIND_CODE["adrg_next"], KIND_CODE["qy"]
