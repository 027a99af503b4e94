/** The slot quota as the Jobs use-cases need it (`JobSlots` in `policy/jobSlots.ts`). */
export interface JobSlotQuota {
  reserveJobSlot(team: string, jobId: string): Promise<void>;
  releaseJobSlot(team: string, jobId: string): Promise<boolean>;
}
