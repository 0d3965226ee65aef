"""venues"""
