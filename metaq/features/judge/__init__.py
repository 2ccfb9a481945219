"""The FVCU step judge: Factuality, Validity, Coherence and Utility of reasoning steps.

A trace is split into steps (:mod:`~metaq.features.judge.steps`, or the LLM
:mod:`~metaq.features.judge.atomizer`), every step is judged on the four criteria from the
next-token probability of two label words (:mod:`~metaq.features.judge.rubric`,
:mod:`~metaq.features.judge.scoring`), a stratified subsample of examples is judged
(:mod:`~metaq.features.sampling`), and :class:`~metaq.features.judge.extractor.FVCUExtractor`
plugs it all into the extraction runner. Nothing heavy is imported here.
"""
