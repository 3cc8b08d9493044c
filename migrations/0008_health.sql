-- GET /health?deep=1 counts the sagas past their step deadline. A saga has a step deadline
-- exactly while it runs (checkout.sagas.step_deadline is NULL once its status is terminal), so
-- this index holds the running sagas only, whatever statuses exist. sagas_due names its statuses
-- in its predicate, so it cannot serve `step_deadline < now()` on its own, and without this
-- index that query reads every saga ever started.
CREATE INDEX sagas_running_by_deadline ON checkout.sagas (step_deadline)
    WHERE step_deadline IS NOT NULL;
