"""The loan pre-qualification model: trained on labelled applications, shipped as a JSON artefact.

``bank.credit.data`` reads the training data and says which attributes the model may use;
``bank.credit.model`` loads the artefact and scores with plain Python (no unpickling, no numerical
libraries at run time); ``bank.credit.train`` fits and measures it (optbinning, scikit-learn: the
``credit`` extra, needed only to train).
"""
