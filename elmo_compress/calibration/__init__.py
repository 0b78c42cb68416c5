"""
Calibration statistics for activation-aware compression: per LSTM matrix, the second moment and mean
of its inputs on calibration text, computed once per biLM and text and cached in a file.
"""

from elmo_compress.calibration.statistics import InputStatistics, StatisticsError, load_statistics_for

__all__ = ["InputStatistics", "StatisticsError", "load_statistics_for"]
