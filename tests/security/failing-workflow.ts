/**
 * Workflow code for the customer-data test: a step fails with the customer's data in its message (a provider that
 * echoes the address it refused), and the workflow fails quoting it too. The activity's failure is converted by the
 * activity worker, the workflow's by the failure converter inside the workflow bundle: both land in the history.
 */
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';

/** What the workflow and its activity quote in their failure messages. */
export interface CustomerSecrets {
  inActivity: string;
  inWorkflow: string;
}

export interface FailingStepActivities {
  refuseWithCustomerData(secret: string): Promise<void>;
}

const { refuseWithCustomerData } = proxyActivities<FailingStepActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 1 },
});

export async function failsWithCustomerData(secrets: CustomerSecrets): Promise<void> {
  try {
    await refuseWithCustomerData(secrets.inActivity);
  } catch (err) {
    throw ApplicationFailure.create({
      type: 'AddressUndeliverable',
      nonRetryable: true,
      message: `cannot ship to ${secrets.inWorkflow}`,
      cause: err as Error,
    });
  }
}
